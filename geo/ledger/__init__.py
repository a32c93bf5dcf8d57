"""The planners' own ledger: imported and edited records, every change kept (``changes``) and undoable.

- :mod:`geo.ledger.readers`, :mod:`geo.ledger.headers`, :mod:`geo.ledger.rows`: a spreadsheet (XLSX, CSV,
  GeoJSON, GeoPackage) read into records of a layer, or rejections naming row, column and value;
  :mod:`geo.ledger.template`: the XLSX template an office fills in;
- :mod:`geo.ledger.changes`: the change log, commits, undo and ``as_of``;
- :mod:`geo.ledger.seed`: the articles' records loaded as seed changes, merged without losing an edit.
"""
