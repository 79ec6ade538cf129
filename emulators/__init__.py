"""Local stand-ins for GitHub's and Google's OAuth 2.0 servers, for the offline demo and tests."""
