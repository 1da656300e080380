"""Changes to users, roles and the organisation catalogue."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from iiz.audit.models import AuditAction
from iiz.audit.services import audit_record
from iiz.organisations.models import OrganisationalUnit, User, UserRole


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    unit: OrganisationalUnit | None,
    roles: Iterable[str],
    password: str | None,
    phone: str = "",
    language: str = "de",
    is_demo_account: bool = False,
    is_staff: bool = False,
    is_superuser: bool = False,
    validate: bool = True,
) -> User:
    """Create a user with roles. Passwords go through Django's validators unless told otherwise.

    Only the demo loader passes ``validate=False``, for the demo accounts' shared password.
    """
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        unit=unit,
        phone=phone,
        language=language,
        is_demo_account=is_demo_account,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            validate_password(password, user)
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user_set_roles(actor=actor, user=user, roles=roles)
    return user


@transaction.atomic
def user_set_roles(*, actor: User | None, user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    UserRole.objects.filter(user=user).exclude(role__in=wanted).delete()
    existing = set(UserRole.objects.filter(user=user).values_list("role", flat=True))
    UserRole.objects.bulk_create([UserRole(user=user, role=role) for role in sorted(wanted - existing)])
    user.__dict__.pop("_role_cache", None)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user_roles",
        object_id=user.pk,
        details={"user": user.username, "roles": sorted(wanted)},
        actor_username="system",
    )
