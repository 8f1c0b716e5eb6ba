"""rnnscope's one browser component and the payloads it reads.

    payload.py   the envelope and the panel types (pure; the schema is docs/CONTRACTS.md, section 6)
    columns.py   what each view sends: its columns of panels (pure)
    mount.py     mounting it in a Streamlit page: scope(), patch()
    scope.js, scope.css   the browser side

The pure modules import neither Streamlit nor the browser side, so a notebook or a
test can build and inspect any view's payload.
"""
