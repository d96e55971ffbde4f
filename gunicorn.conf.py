# Read by gunicorn from the working directory: `gunicorn wsgi:app` picks it up.
# Access logs stay off unless asked for (--access-logfile -); when on, feed tokens in paths are
# redacted, because a feed URL is its subscriber's only credential.
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
logger_class = "scheduler.serve.RedactingLogger"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
