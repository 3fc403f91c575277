"""The web service over a Predictor: ``moodnet.serve.app.create_app`` (FastAPI)."""
