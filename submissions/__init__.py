"""The applicant side: organizations, rounds, applications, documents, receipts, audit log."""
