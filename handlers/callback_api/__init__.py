"""The signed HTTPS callback endpoint (CallbackApiFunction): signatures, single-use tokens, the signing secret."""
