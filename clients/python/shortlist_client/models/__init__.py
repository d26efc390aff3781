"""Contains all the data models used in inputs/outputs"""

from .affinity_import_result import AffinityImportResult
from .affinity_public import AffinityPublic
from .affinity_source import AffinitySource
from .aggregate import Aggregate
from .application_create import ApplicationCreate
from .application_for_preference import ApplicationForPreference
from .application_member_in import ApplicationMemberIn
from .application_organization_public import ApplicationOrganizationPublic
from .application_progress import ApplicationProgress
from .application_public import ApplicationPublic
from .application_sealed import ApplicationSealed
from .application_status import ApplicationStatus
from .application_update import ApplicationUpdate
from .assignment_counts import AssignmentCounts
from .assignment_create import AssignmentCreate
from .assignment_public import AssignmentPublic
from .assignment_status import AssignmentStatus
from .audit_event_public import AuditEventPublic
from .audit_event_public_data import AuditEventPublicData
from .audit_verification import AuditVerification
from .authorization_server_metadata import AuthorizationServerMetadata
from .authorize_code_challenge_method import AuthorizeCodeChallengeMethod
from .authorize_response_type import AuthorizeResponseType
from .auto_assign_request import AutoAssignRequest
from .auto_assign_result import AutoAssignResult
from .auto_assign_stats import AutoAssignStats
from .auto_assign_stats_preferences_honoured import AutoAssignStatsPreferencesHonoured
from .calibration import Calibration
from .close_request import CloseRequest
from .conflict_create import ConflictCreate
from .conflict_public import ConflictPublic
from .conflict_public_source import ConflictPublicSource
from .criterion import Criterion
from .declared_conflict_public import DeclaredConflictPublic
from .delivery_public import DeliveryPublic
from .delivery_status import DeliveryStatus
from .document_public import DocumentPublic
from .document_status import DocumentStatus
from .eligibility import Eligibility
from .email_domain_verify import EmailDomainVerify
from .event_public import EventPublic
from .event_public_data import EventPublicData
from .event_type import EventType
from .gate import Gate
from .get_round_report_locale_type_0 import GetRoundReportLocaleType0
from .health import Health
from .introspect_token_body import IntrospectTokenBody
from .introspect_token_body_token_type_hint import IntrospectTokenBodyTokenTypeHint
from .issue_token_body import IssueTokenBody
from .issue_token_body_grant_type import IssueTokenBodyGrantType
from .json_web_key import JsonWebKey
from .json_web_key_set import JsonWebKeySet
from .me_public import MePublic
from .member_role import MemberRole
from .my_assignment_public import MyAssignmentPublic
from .o_auth_client_create import OAuthClientCreate
from .o_auth_client_created import OAuthClientCreated
from .o_auth_client_public import OAuthClientPublic
from .o_auth_error_response import OAuthErrorResponse
from .o_auth_introspection import OAuthIntrospection
from .o_auth_revoked import OAuthRevoked
from .o_auth_token_response import OAuthTokenResponse
from .organization_create import OrganizationCreate
from .organization_member_create import OrganizationMemberCreate
from .organization_member_public import OrganizationMemberPublic
from .organization_public import OrganizationPublic
from .organization_ref import OrganizationRef
from .page_affinity_public import PageAffinityPublic
from .page_application_for_preference import PageApplicationForPreference
from .page_assignment_public import PageAssignmentPublic
from .page_audit_event_public import PageAuditEventPublic
from .page_conflict_public import PageConflictPublic
from .page_delivery_public import PageDeliveryPublic
from .page_document_public import PageDocumentPublic
from .page_event_public import PageEventPublic
from .page_my_assignment_public import PageMyAssignmentPublic
from .page_o_auth_client_public import PageOAuthClientPublic
from .page_organization_public import PageOrganizationPublic
from .page_preference_public import PagePreferencePublic
from .page_program_public import PageProgramPublic
from .page_round_public import PageRoundPublic
from .page_round_reviewer_public import PageRoundReviewerPublic
from .page_union_application_public_application_sealed import PageUnionApplicationPublicApplicationSealed
from .page_webhook_public import PageWebhookPublic
from .planned_assignment import PlannedAssignment
from .preference_in import PreferenceIn
from .preference_level import PreferenceLevel
from .preference_public import PreferencePublic
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .program_create import ProgramCreate
from .program_public import ProgramPublic
from .publication import Publication
from .put_round_affinities_json_affinity_import import PutRoundAffinitiesJsonAffinityImport
from .put_round_affinities_json_affinity_import_imported_affinity import (
    PutRoundAffinitiesJsonAffinityImportImportedAffinity,
)
from .ranking_row_admin import RankingRowAdmin
from .ranking_row_admin_criteria import RankingRowAdminCriteria
from .ranking_row_admin_reason import RankingRowAdminReason
from .ranking_row_applicant import RankingRowApplicant
from .ranking_row_applicant_criteria import RankingRowApplicantCriteria
from .ranking_row_applicant_reason import RankingRowApplicantReason
from .readiness import Readiness
from .readiness_checks import ReadinessChecks
from .readiness_checks_additional_property import ReadinessChecksAdditionalProperty
from .receipt_document import ReceiptDocument
from .receipt_public import ReceiptPublic
from .recusal_in import RecusalIn
from .required_document import RequiredDocument
from .results_admin import ResultsAdmin
from .results_applicant import ResultsApplicant
from .review_in import ReviewIn
from .review_in_gates import ReviewInGates
from .review_in_gates_additional_property import ReviewInGatesAdditionalProperty
from .review_in_scores import ReviewInScores
from .review_public import ReviewPublic
from .review_public_gates import ReviewPublicGates
from .review_public_scores import ReviewPublicScores
from .review_status import ReviewStatus
from .reviewer_profile_in import ReviewerProfileIn
from .reviewer_profile_public import ReviewerProfilePublic
from .reviewer_progress import ReviewerProgress
from .revoke_token_body import RevokeTokenBody
from .revoke_token_body_token_type_hint import RevokeTokenBodyTokenTypeHint
from .role import Role
from .round_create import RoundCreate
from .round_create_affinity import RoundCreateAffinity
from .round_progress import RoundProgress
from .round_public import RoundPublic
from .round_public_affinity import RoundPublicAffinity
from .round_reviewer_create import RoundReviewerCreate
from .round_reviewer_public import RoundReviewerPublic
from .round_status import RoundStatus
from .round_update import RoundUpdate
from .round_update_affinity_type_0 import RoundUpdateAffinityType0
from .scope import Scope
from .shortlist_preview import ShortlistPreview
from .shortlist_rules import ShortlistRules
from .submit_login_body import SubmitLoginBody
from .submit_login_body_action import SubmitLoginBodyAction
from .upload_document_body import UploadDocumentBody
from .user_create import UserCreate
from .user_create_locale_type_0 import UserCreateLocaleType0
from .user_public import UserPublic
from .webhook_create import WebhookCreate
from .webhook_public import WebhookPublic
from .webhook_status import WebhookStatus
from .webhook_update import WebhookUpdate
from .webhook_with_secret import WebhookWithSecret

__all__ = (
    "AffinityImportResult",
    "AffinityPublic",
    "AffinitySource",
    "Aggregate",
    "ApplicationCreate",
    "ApplicationForPreference",
    "ApplicationMemberIn",
    "ApplicationOrganizationPublic",
    "ApplicationProgress",
    "ApplicationPublic",
    "ApplicationSealed",
    "ApplicationStatus",
    "ApplicationUpdate",
    "AssignmentCounts",
    "AssignmentCreate",
    "AssignmentPublic",
    "AssignmentStatus",
    "AuditEventPublic",
    "AuditEventPublicData",
    "AuditVerification",
    "AuthorizationServerMetadata",
    "AuthorizeCodeChallengeMethod",
    "AuthorizeResponseType",
    "AutoAssignRequest",
    "AutoAssignResult",
    "AutoAssignStats",
    "AutoAssignStatsPreferencesHonoured",
    "Calibration",
    "CloseRequest",
    "ConflictCreate",
    "ConflictPublic",
    "ConflictPublicSource",
    "Criterion",
    "DeclaredConflictPublic",
    "DeliveryPublic",
    "DeliveryStatus",
    "DocumentPublic",
    "DocumentStatus",
    "Eligibility",
    "EmailDomainVerify",
    "EventPublic",
    "EventPublicData",
    "EventType",
    "Gate",
    "GetRoundReportLocaleType0",
    "Health",
    "IntrospectTokenBody",
    "IntrospectTokenBodyTokenTypeHint",
    "IssueTokenBody",
    "IssueTokenBodyGrantType",
    "JsonWebKey",
    "JsonWebKeySet",
    "MemberRole",
    "MePublic",
    "MyAssignmentPublic",
    "OAuthClientCreate",
    "OAuthClientCreated",
    "OAuthClientPublic",
    "OAuthErrorResponse",
    "OAuthIntrospection",
    "OAuthRevoked",
    "OAuthTokenResponse",
    "OrganizationCreate",
    "OrganizationMemberCreate",
    "OrganizationMemberPublic",
    "OrganizationPublic",
    "OrganizationRef",
    "PageAffinityPublic",
    "PageApplicationForPreference",
    "PageAssignmentPublic",
    "PageAuditEventPublic",
    "PageConflictPublic",
    "PageDeliveryPublic",
    "PageDocumentPublic",
    "PageEventPublic",
    "PageMyAssignmentPublic",
    "PageOAuthClientPublic",
    "PageOrganizationPublic",
    "PagePreferencePublic",
    "PageProgramPublic",
    "PageRoundPublic",
    "PageRoundReviewerPublic",
    "PageUnionApplicationPublicApplicationSealed",
    "PageWebhookPublic",
    "PlannedAssignment",
    "PreferenceIn",
    "PreferenceLevel",
    "PreferencePublic",
    "Problem",
    "ProblemErrorsItem",
    "ProgramCreate",
    "ProgramPublic",
    "Publication",
    "PutRoundAffinitiesJsonAffinityImport",
    "PutRoundAffinitiesJsonAffinityImportImportedAffinity",
    "RankingRowAdmin",
    "RankingRowAdminCriteria",
    "RankingRowAdminReason",
    "RankingRowApplicant",
    "RankingRowApplicantCriteria",
    "RankingRowApplicantReason",
    "Readiness",
    "ReadinessChecks",
    "ReadinessChecksAdditionalProperty",
    "ReceiptDocument",
    "ReceiptPublic",
    "RecusalIn",
    "RequiredDocument",
    "ResultsAdmin",
    "ResultsApplicant",
    "ReviewerProfileIn",
    "ReviewerProfilePublic",
    "ReviewerProgress",
    "ReviewIn",
    "ReviewInGates",
    "ReviewInGatesAdditionalProperty",
    "ReviewInScores",
    "ReviewPublic",
    "ReviewPublicGates",
    "ReviewPublicScores",
    "ReviewStatus",
    "RevokeTokenBody",
    "RevokeTokenBodyTokenTypeHint",
    "Role",
    "RoundCreate",
    "RoundCreateAffinity",
    "RoundProgress",
    "RoundPublic",
    "RoundPublicAffinity",
    "RoundReviewerCreate",
    "RoundReviewerPublic",
    "RoundStatus",
    "RoundUpdate",
    "RoundUpdateAffinityType0",
    "Scope",
    "ShortlistPreview",
    "ShortlistRules",
    "SubmitLoginBody",
    "SubmitLoginBodyAction",
    "UploadDocumentBody",
    "UserCreate",
    "UserCreateLocaleType0",
    "UserPublic",
    "WebhookCreate",
    "WebhookPublic",
    "WebhookStatus",
    "WebhookUpdate",
    "WebhookWithSecret",
)
