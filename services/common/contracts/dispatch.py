"""Events published by the dispatch service."""
