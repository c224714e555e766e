"""Read-only queries, one module per audience: `public` (readers: search results, record
pages, files), `staff`, `review`, `translations`, `admin`, `feeds`, `oai` (harvesters) and
`tokens`. Nothing here writes or commits; every query of records starts from
`access.visible_to(viewer)`."""
