"""The evaluation side: reviewer pool, conflicts, assignment, reviews, scoring and shortlisting."""
