"""SIPp as the hotline's test caller and test softphone."""
