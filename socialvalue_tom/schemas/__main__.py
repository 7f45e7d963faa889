"""``python -m socialvalue_tom.schemas FOLDER``: write the JSON Schemas into FOLDER.

A ``__main__`` module of its own, because the package ``__init__`` already imports
``socialvalue_tom.schemas`` (for ``sv.json_schema``) and running an imported module with ``-m``
makes Python warn.
"""

from socialvalue_tom.schemas import main

raise SystemExit(main())
