"""Every model of the hub, importable from one place."""

from __future__ import annotations

from knowledge_hub.models.base import Base
from knowledge_hub.models.documents import AccessLevel
from knowledge_hub.models.documents import DocType
from knowledge_hub.models.documents import Document
from knowledge_hub.models.documents import DocumentKind
from knowledge_hub.models.documents import DocumentOrganization
from knowledge_hub.models.documents import DocumentStatus
from knowledge_hub.models.documents import OrganizationRole
from knowledge_hub.models.documents import PendingIndex
from knowledge_hub.models.documents import Region
from knowledge_hub.models.documents import StoredFile
from knowledge_hub.models.documents import Topic
from knowledge_hub.models.documents import Variant
from knowledge_hub.models.documents import VariantStatus
from knowledge_hub.models.fixity import FileCheck
from knowledge_hub.models.mail import AlertDelivery
from knowledge_hub.models.mail import AlertFrequency
from knowledge_hub.models.mail import MailState
from knowledge_hub.models.mail import OutgoingMail
from knowledge_hub.models.mail import SavedSearch
from knowledge_hub.models.meetings import Meeting
from knowledge_hub.models.meetings import MeetingOrganization
from knowledge_hub.models.ocr import OcrPage
from knowledge_hub.models.ocr import OcrState
from knowledge_hub.models.people import LoginAttempt
from knowledge_hub.models.people import Organization
from knowledge_hub.models.people import OrganizationKind
from knowledge_hub.models.people import Role
from knowledge_hub.models.people import User
from knowledge_hub.models.reextraction import ReextractionRun
from knowledge_hub.models.review import APPLIES_TO
from knowledge_hub.models.review import AuditEvent
from knowledge_hub.models.review import CheckOutcome
from knowledge_hub.models.review import CriteriaSetVersion
from knowledge_hub.models.review import Criterion
from knowledge_hub.models.review import CriterionCheck
from knowledge_hub.models.review import CriterionKind
from knowledge_hub.models.statistics import RecentClick
from knowledge_hub.models.statistics import UsageCount
from knowledge_hub.models.statistics import UsageMetric
from knowledge_hub.models.tokens import ApiToken
from knowledge_hub.models.translations import ACTIVE_REQUEST_STATUSES
from knowledge_hub.models.translations import RequestStatus
from knowledge_hub.models.translations import TranslationRequest

__all__ = [
    "ACTIVE_REQUEST_STATUSES",
    "APPLIES_TO",
    "AlertDelivery",
    "AlertFrequency",
    "ApiToken",
    "AccessLevel",
    "AuditEvent",
    "CheckOutcome",
    "CriteriaSetVersion",
    "Criterion",
    "CriterionCheck",
    "CriterionKind",
    "Base",
    "DocType",
    "Document",
    "DocumentKind",
    "DocumentOrganization",
    "DocumentStatus",
    "FileCheck",
    "LoginAttempt",
    "Meeting",
    "MeetingOrganization",
    "MailState",
    "OcrPage",
    "OcrState",
    "Organization",
    "OrganizationKind",
    "OrganizationRole",
    "OutgoingMail",
    "PendingIndex",
    "RecentClick",
    "ReextractionRun",
    "Region",
    "RequestStatus",
    "Role",
    "SavedSearch",
    "StoredFile",
    "Topic",
    "TranslationRequest",
    "UsageCount",
    "UsageMetric",
    "User",
    "Variant",
    "VariantStatus",
]
