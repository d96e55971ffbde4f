# Copy to instance/config.py to configure a local install. SCHEDULER_* environment variables
# override anything set here.

# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://scheduler:secret@127.0.0.1/scheduler"
# SECRET_KEY = "a long random string"
# SMTP_URL = "smtp://user:password@mail.example.org:587?starttls=1&from=clinic@example.org"
# BASE_URL = "https://scheduler.example.org"
# CLINIC_NAME = "Riverside Ketamine Clinic"
# FEED_DAYS_BACK = 90
# FEED_DAYS_AHEAD = 365
