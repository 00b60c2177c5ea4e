"""Code shared by every chat function; deployed with the handlers as one code asset."""
