"""API of a request's conversation: comments (and internal notes) with their attachments,
attachment downloads, and the requester's answer to a question that put a step on hold.

The views only translate: ``Comment.objects.restrict`` / ``Attachment.objects.restrict`` decide
what is visible (the same rule as the conversation panel), the services in
``requests_app.services_conversation`` and ``approvals.services`` decide every write.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request

from governance import limits
from governance.api.serializers import UserRefSerializer
from kit.api_views import RestrictedAPIView
from requests_app.models import Attachment, Comment
from requests_app.views_conversation import attachment_response


class AttachmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    name = serializers.CharField(source="original_name", read_only=True)
    size = serializers.IntegerField(read_only=True, help_text="Bytes.")
    content_type = serializers.CharField(read_only=True, help_text="Detected from the content.")
    uploaded_by = UserRefSerializer(read_only=True)
    download_url = serializers.SerializerMethodField(
        help_text="`GET` it with the same credentials to receive the file."
    )

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "uploaded_by", "created_at",
                  "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment: Attachment) -> str:
        return reverse("api-attachment-download", kwargs={"uuid": attachment.uuid})


class CommentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True,
                               help_text="A random identifier (it says nothing about order).")
    author = UserRefSerializer(read_only=True, allow_null=True,
                               help_text="Empty for messages SRM writes itself.")
    internal = serializers.BooleanField(
        read_only=True,
        help_text="An internal note: only the departments working on the request and ops "
        "leaders see it, never the requester.",
    )
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "internal", "created_at", "attachments"]
        read_only_fields = fields


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, allow_blank=True, default="",
                                 trim_whitespace=False,
                                 help_text=f"At most {limits.CONVERSATION_TEXT:,} characters; may be empty "
                                 "with files.")
    internal = serializers.BooleanField(
        required=False, default=False,
        help_text="An internal note (staff of the accountable departments and ops leaders).",
    )
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False), required=False,
        default=list,
        help_text="Attachments (multipart only), checked for size and type by content as in "
        "the portal.",
    )


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                   help_text="Your answer to the open question.")
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False), required=False,
        default=list, help_text="Attachments (multipart only).",
    )


def comments_visible(user, service_request):
    """The request's comments ``user`` may see (internal notes only for those allowed),
    oldest first, with their attachments."""
    files = Attachment.objects.select_related("uploaded_by").order_by("created_at", "id")
    return (
        Comment.objects.restrict(user)
        .filter(request=service_request)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=files))
        .order_by("created_at", "id")
    )


class AttachmentDownloadView(RestrictedAPIView):
    serves = (Attachment,)

    @extend_schema(
        tags=["conversation"],
        summary="Download an attachment",
        description="Streams the file to someone who may see it (the same rule as the "
        "portal's download); anyone else gets 404.",
        responses={(200, "application/octet-stream"): OpenApiResponse(
            response=OpenApiTypes.BINARY,
            description="The file, as an attachment with its original name.",
        )},
    )
    def get(self, request: Request, uuid) -> FileResponse:
        attachment = get_object_or_404(Attachment.objects.restrict(request.user), uuid=uuid)
        return attachment_response(attachment)
