"""The ceiling for HTTP on this machine: a trivial WSGI app under the gateway's own gunicorn
settings. Benchmarks report the gateway's rates as a share of this one, measured in the same
run."""

BODY = b'{"status":"ok"}'


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
