"""What the portal tells people and systems: the event feed, webhook deliveries, mail.

Events are written by the domain changes themselves (``submissions.outbox``); this package reads
them, each reader under the same rules as the resources the events are about."""
