"""What a staff or console password must be: at least 8 characters, not only spaces, not one
character repeated, not the account's own name, and not one of the passwords attackers try first
(a short list of the most common ones that are 8 characters or longer, from public breach
statistics; a longer list belongs in a well-kept library once one is chosen)."""
from __future__ import annotations

from models.errors import InvalidInput

MIN_LENGTH, MAX_LENGTH = 8, 200
COMMON = frozenset("""
12345678 123456789 1234567890 password password1 password123 passw0rd p@ssw0rd qwertyui qwerty123
qwertyuiop 1q2w3e4r 1q2w3e4r5t 1qaz2wsx zaq12wsx 11111111 00000000 88888888 66666666 12341234 11223344
87654321 987654321 abcd1234 aa123456 a1234567 abc12345 iloveyou iloveyou1 sunshine princess football
baseball superman starwars trustno1 letmein1 welcome1 welcome123 admin123 administrator changeme
computer michelle jennifer internet whatever asdfghjk zxcvbnm1 asdf1234 qazwsxedc 1234qwer qwer1234
woaini1314 5201314520 a123456789 iloveyou2 password12 loveyou1 dragon123 monkey123 shadow12 master12
""".split())


def check_password(password: object, *, name: str = "") -> str:
    """The password, or InvalidInput (weak_password, details.field = password) saying what is wrong."""
    def refuse(why: str) -> InvalidInput:
        return InvalidInput(why, code="weak_password", details={"field": "password"})

    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise refuse(f"Password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise refuse(f"Password is at most {MAX_LENGTH} characters")
    if not password.strip() or len(set(password)) == 1:
        raise refuse("Password cannot be one character repeated or only spaces")
    lowered = password.strip().lower()
    if lowered in COMMON or (name and lowered in {name.strip().lower(), name.strip().lower().split("@")[0]}):
        raise refuse("This password is too easy to guess; choose another")
    return password
