"""gunicorn settings for `make run` and deployments: gunicorn -c gunicorn.conf.py 'app:create_app()'.

The app is built once in the master (preload), so migrations and the first-start admin run
once; workers are forked from it (the SQLAlchemy pool is reset in each child).
"""

import os

bind = f"{os.environ.get('DOCBRIDGE_HOST', '127.0.0.1')}:{os.environ.get('DOCBRIDGE_PORT', '8080')}"
# Four processes of two threads rather than two of four: the GIL-bound work spreads over
# both cores, for about 135 MiB more memory. The worker is gthread that listens only while
# it has a free thread (server/worker.py): plain gthread accepts every connection it can,
# so keep-alive clients opened together often all landed in one worker, which served them
# at a third of the rate (docs/benchmarks.md, "Worker model").
workers = int(os.environ.get("DOCBRIDGE_WORKERS", "4"))
worker_class = "server.worker.FreeThreadWorker"
threads = int(os.environ.get("DOCBRIDGE_THREADS", "2"))
preload_app = True
# Large uploads and Document Server downloads take a while; a worker is not stuck then.
timeout = 300
graceful_timeout = 30
keepalive = 5
# The path without its query string: access tokens travel in WOPI and download URLs.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss "%(a)s"'
accesslog = "-" if os.environ.get("DOCBRIDGE_ACCESS_LOG", "") not in ("", "0", "false") else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("DOCBRIDGE_FORWARDED_ALLOW_IPS", "127.0.0.1")
