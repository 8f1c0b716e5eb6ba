"""One module per view: `render(sel: Selection)` and its TITLE, URL_PATH and ICON. app.py routes to them."""
