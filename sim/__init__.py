"""A day of repairs and deliveries in Jianghan district on a simulated clock (docs/simulation.md).

Run it with `python -m sim` (or `make simulate`). It drives the real dispatch code — the
domain's transitions, SLA deadline, shifts and ranking, and the service's candidate search and
policies — in one process without RabbitMQ.
"""
