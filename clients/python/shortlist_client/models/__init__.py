"""Contains all the data models used in inputs/outputs"""

from .aggregate import Aggregate
from .application_create import ApplicationCreate
from .application_member_in import ApplicationMemberIn
from .application_organization_public import ApplicationOrganizationPublic
from .application_public import ApplicationPublic
from .application_sealed import ApplicationSealed
from .application_status import ApplicationStatus
from .application_update import ApplicationUpdate
from .assignment_create import AssignmentCreate
from .assignment_public import AssignmentPublic
from .assignment_status import AssignmentStatus
from .audit_event_public import AuditEventPublic
from .audit_event_public_data import AuditEventPublicData
from .audit_verification import AuditVerification
from .authorize_code_challenge_method import AuthorizeCodeChallengeMethod
from .authorize_response_type import AuthorizeResponseType
from .auto_assign_request import AutoAssignRequest
from .auto_assign_result import AutoAssignResult
from .auto_assign_result_stats import AutoAssignResultStats
from .calibration import Calibration
from .close_request import CloseRequest
from .conflict_create import ConflictCreate
from .conflict_public import ConflictPublic
from .conflict_public_source import ConflictPublicSource
from .criterion import Criterion
from .declared_conflict_public import DeclaredConflictPublic
from .document_public import DocumentPublic
from .document_status import DocumentStatus
from .eligibility import Eligibility
from .email_domain_verify import EmailDomainVerify
from .gate import Gate
from .get_jwks_response_getjwks import GetJwksResponseGetjwks
from .get_liveness_response_getliveness import GetLivenessResponseGetliveness
from .get_oauth_metadata_response_getoauthmetadata import GetOauthMetadataResponseGetoauthmetadata
from .get_openid_configuration_response_getopenidconfiguration import (
    GetOpenidConfigurationResponseGetopenidconfiguration,
)
from .get_results_response_getresults import GetResultsResponseGetresults
from .introspect_token_body import IntrospectTokenBody
from .introspect_token_body_token_type_hint import IntrospectTokenBodyTokenTypeHint
from .issue_token_body import IssueTokenBody
from .issue_token_body_grant_type import IssueTokenBodyGrantType
from .me_public import MePublic
from .member_role import MemberRole
from .my_assignment_public import MyAssignmentPublic
from .o_auth_client_create import OAuthClientCreate
from .o_auth_client_created import OAuthClientCreated
from .o_auth_client_public import OAuthClientPublic
from .o_auth_error_response import OAuthErrorResponse
from .o_auth_introspection import OAuthIntrospection
from .o_auth_token_response import OAuthTokenResponse
from .organization_create import OrganizationCreate
from .organization_member_create import OrganizationMemberCreate
from .organization_member_public import OrganizationMemberPublic
from .organization_public import OrganizationPublic
from .organization_ref import OrganizationRef
from .page_assignment_public import PageAssignmentPublic
from .page_audit_event_public import PageAuditEventPublic
from .page_conflict_public import PageConflictPublic
from .page_document_public import PageDocumentPublic
from .page_my_assignment_public import PageMyAssignmentPublic
from .page_o_auth_client_public import PageOAuthClientPublic
from .page_organization_public import PageOrganizationPublic
from .page_program_public import PageProgramPublic
from .page_round_public import PageRoundPublic
from .page_round_reviewer_public import PageRoundReviewerPublic
from .page_union_application_public_application_sealed import PageUnionApplicationPublicApplicationSealed
from .planned_assignment import PlannedAssignment
from .preview_shortlist_response_previewshortlist import PreviewShortlistResponsePreviewshortlist
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .program_create import ProgramCreate
from .program_public import ProgramPublic
from .receipt_document import ReceiptDocument
from .receipt_public import ReceiptPublic
from .recusal_in import RecusalIn
from .required_document import RequiredDocument
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
from .revoke_token_body import RevokeTokenBody
from .revoke_token_body_token_type_hint import RevokeTokenBodyTokenTypeHint
from .revoke_token_response_revoketoken import RevokeTokenResponseRevoketoken
from .role import Role
from .round_create import RoundCreate
from .round_public import RoundPublic
from .round_reviewer_create import RoundReviewerCreate
from .round_reviewer_public import RoundReviewerPublic
from .round_status import RoundStatus
from .round_update import RoundUpdate
from .scope import Scope
from .shortlist_rules import ShortlistRules
from .submit_login_body import SubmitLoginBody
from .submit_login_body_action import SubmitLoginBodyAction
from .upload_document_body import UploadDocumentBody
from .user_create import UserCreate
from .user_public import UserPublic

__all__ = (
    "Aggregate",
    "ApplicationCreate",
    "ApplicationMemberIn",
    "ApplicationOrganizationPublic",
    "ApplicationPublic",
    "ApplicationSealed",
    "ApplicationStatus",
    "ApplicationUpdate",
    "AssignmentCreate",
    "AssignmentPublic",
    "AssignmentStatus",
    "AuditEventPublic",
    "AuditEventPublicData",
    "AuditVerification",
    "AuthorizeCodeChallengeMethod",
    "AuthorizeResponseType",
    "AutoAssignRequest",
    "AutoAssignResult",
    "AutoAssignResultStats",
    "Calibration",
    "CloseRequest",
    "ConflictCreate",
    "ConflictPublic",
    "ConflictPublicSource",
    "Criterion",
    "DeclaredConflictPublic",
    "DocumentPublic",
    "DocumentStatus",
    "Eligibility",
    "EmailDomainVerify",
    "Gate",
    "GetJwksResponseGetjwks",
    "GetLivenessResponseGetliveness",
    "GetOauthMetadataResponseGetoauthmetadata",
    "GetOpenidConfigurationResponseGetopenidconfiguration",
    "GetResultsResponseGetresults",
    "IntrospectTokenBody",
    "IntrospectTokenBodyTokenTypeHint",
    "IssueTokenBody",
    "IssueTokenBodyGrantType",
    "MemberRole",
    "MePublic",
    "MyAssignmentPublic",
    "OAuthClientCreate",
    "OAuthClientCreated",
    "OAuthClientPublic",
    "OAuthErrorResponse",
    "OAuthIntrospection",
    "OAuthTokenResponse",
    "OrganizationCreate",
    "OrganizationMemberCreate",
    "OrganizationMemberPublic",
    "OrganizationPublic",
    "OrganizationRef",
    "PageAssignmentPublic",
    "PageAuditEventPublic",
    "PageConflictPublic",
    "PageDocumentPublic",
    "PageMyAssignmentPublic",
    "PageOAuthClientPublic",
    "PageOrganizationPublic",
    "PageProgramPublic",
    "PageRoundPublic",
    "PageRoundReviewerPublic",
    "PageUnionApplicationPublicApplicationSealed",
    "PlannedAssignment",
    "PreviewShortlistResponsePreviewshortlist",
    "Problem",
    "ProblemErrorsItem",
    "ProgramCreate",
    "ProgramPublic",
    "ReceiptDocument",
    "ReceiptPublic",
    "RecusalIn",
    "RequiredDocument",
    "ReviewerProfileIn",
    "ReviewerProfilePublic",
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
    "RevokeTokenResponseRevoketoken",
    "Role",
    "RoundCreate",
    "RoundPublic",
    "RoundReviewerCreate",
    "RoundReviewerPublic",
    "RoundStatus",
    "RoundUpdate",
    "Scope",
    "ShortlistRules",
    "SubmitLoginBody",
    "SubmitLoginBodyAction",
    "UploadDocumentBody",
    "UserCreate",
    "UserPublic",
)
