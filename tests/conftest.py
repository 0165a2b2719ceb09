"""Settings shared by every test folder."""
from hypothesis import HealthCheck, settings

# Tests draw shapes and run NumPy code whose first call may be slow: no per-example deadline.
settings.register_profile("default", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")
