"""gunicorn settings for `make run` and deployments: gunicorn -c gunicorn.conf.py 'app:create_app()'.

The app is built once in the master (preload), so migrations and the first-start admin run
once; workers are forked from it (the SQLAlchemy pool is reset in each child).
"""

import os

bind = f"{os.environ.get('DOCBRIDGE_HOST', '127.0.0.1')}:{os.environ.get('DOCBRIDGE_PORT', '8080')}"
workers = int(os.environ.get("DOCBRIDGE_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("DOCBRIDGE_THREADS", "4"))
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
