"""Helpers for views that hand form data to services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def form_add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's validation errors at the form's fields, or above the form when no field fits."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target if field != NON_FIELD_ERRORS else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)
