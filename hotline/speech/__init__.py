"""Speech: Vosk models, call transcription, redaction of transcripts and topic classification.

Importing this package loads nothing: a model is loaded when a transcriber first needs it.
"""
