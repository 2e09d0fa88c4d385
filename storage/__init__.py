"""Records, the ledger and the outbox (SQLModel); filled by the service issue."""
