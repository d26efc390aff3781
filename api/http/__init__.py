"""HTTP mechanics the routes share: ETags, idempotency keys, multipart streaming, pagination,
finite JSON bodies and blob downloads."""
