"""Rich menus as data: the Messaging API's own rich menu objects (``definitions/``), the images
drawn from them (``render.py``), and the command that puts them on LINE (``deploy.py``)."""
