"""An AWS Glue job run as a kind of waited work, written against the waiting core's ports alone."""
