"""Why the local runtime cannot serve a template: raised wherever the template is read or served."""


class UnsupportedTemplate(ValueError):
    """The template uses something the local runtime cannot resolve or serve; the message names where."""


class UnreadableTemplate(UnsupportedTemplate):
    """A file of the cloud assembly is not what synthesis writes (truncated, empty, edited, invalid ASL):
    synthesizing again repairs it when the sources are sound."""
