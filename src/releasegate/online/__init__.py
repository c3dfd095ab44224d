"""The online half's services: recording, scoring and the canary service."""
