"""The JSON API for cashiers and POS (/api/v1): auth, scan, award, redeem, coupons, claims, shift."""
