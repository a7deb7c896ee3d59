"""Template errors, with Tinybird's texts (TINYBIRD.md C; tinybird-cli 6.5.5 behaviour).

- `TemplateError`: the base. `message` is the bare text, `line` the 1-based template line
  (None when unknown), `code` the HTTP status to answer with (400), `documentation` a
  docs path. `str(e)` is what Tinybird shows: `Template Syntax Error: <message>` for
  template mistakes and bad parameter values.
- `TemplateParseError`: the template text itself is malformed (`Missing end expression }}`,
  `import is forbidden`, ...); `str(e)` is `<message> at <name>:<line>` as Tornado's.
- `UnclosedBlockError`: `Missing {% end %} block for if at line N`.
- `TemplateUserError`: raised by the template's own `error('...')`: `str(e)` is the bare
  message.
- `TemplateCustomError`: raised by `custom_error(obj, code)`: `payload` is the object to
  answer with, `code` the HTTP status.
- `TemplateNameError`: a reserved name (`format`, `q`) used as a variable.
"""
from __future__ import annotations


class TemplateError(ValueError):
    prefix = "Template Syntax Error: "

    def __init__(self, message: str, line: int | None = None, *, code: int = 400,
                 documentation: str | None = "/cli/advanced-templates.html"):
        self.message = message
        self.line = line
        self.code = code
        self.documentation = documentation
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.prefix}{self.message}"


class TemplateParseError(TemplateError):
    def __init__(self, message: str, line: int, name: str = "<string>"):
        self.name = name
        super().__init__(message, line)

    def __str__(self) -> str:
        return f"{self.message} at {self.name}:{self.line}"


class UnclosedBlockError(TemplateError):
    def __init__(self, block: str, line: int, name: str = "<string>"):
        self.block = block
        self.name = name
        super().__init__(f"Missing {{% end %}} block for {block} at line {line}", line)

    def __str__(self) -> str:
        return self.message


class TemplateUserError(TemplateError):
    prefix = ""


class TemplateNameError(TemplateError):
    prefix = ""


class TemplateCustomError(TemplateError):
    prefix = ""

    def __init__(self, payload, code: int = 400, line: int | None = None):
        self.payload = payload
        super().__init__(str(payload), line, code=code)
