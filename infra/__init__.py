"""Adapters to the world outside the domain: settings, the database, blob stores, the malware
scanner, background jobs, rate limits, logging and the clock. The domain declares the protocols
(``submissions.blobs.BlobStore``, ``submissions.scanning.Scanner``); these implement them."""
