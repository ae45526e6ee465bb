"""The test servers' common start: listen on 127.0.0.1 on a free port, print
"PORT <n>" once listening (the tests read it), serve until killed."""
from http.server import ThreadingHTTPServer


def serve_on_loopback(handler, wrap_socket=None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if wrap_socket is not None:
        server.socket = wrap_socket(server.socket)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
