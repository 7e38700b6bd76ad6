"""Hotline: IVR and call-center engine for worker-service hotlines."""

__version__ = "0.1.0"
