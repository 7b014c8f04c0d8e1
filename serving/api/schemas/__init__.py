"""Request and response models, one module per resource (XCreate for input, XPublic for output)."""
