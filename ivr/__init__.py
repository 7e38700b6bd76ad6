"""The voice side of the hotline: IVR flows callers walk with their keypad."""
