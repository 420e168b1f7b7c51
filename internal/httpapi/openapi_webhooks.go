package httpapi

import "github.com/quirecms/quire"

// webhookSchemas describe webhook endpoints, deliveries and the payload
// every delivery carries; they join the component schemas at start-up.
var webhookSchemas = obj{
	"Webhook":        object(webhookRequired, webhookProps(false)),
	"WebhookCreated": object(append([]string{"secret"}, webhookRequired...), webhookProps(true)),
	"WebhookList":    listOf("Webhook"),
	"NewWebhook": object([]string{"url"}, obj{
		"url":         str("maxLength", 2000, "description", "http or https; private addresses are refused unless QUIRE_WEBHOOK_ALLOW_PRIVATE=true"),
		"description": str("maxLength", 500), "event_types": eventTypeList, "active": obj{"type": "boolean", "default": true},
	}),
	"WebhookPatch": object(nil, obj{
		"url": str("maxLength", 2000), "description": str("maxLength", 500), "event_types": eventTypeList,
		"active": obj{"type": "boolean", "description": "Switching an endpoint back on clears disabled_reason and failing_since"},
	}),
	"WebhookDelivery": object([]string{"id", "webhook_id", "event_id", "event_type", "status", "attempts", "created_at", "updated_at"}, obj{
		"id": str(), "webhook_id": str(), "event_id": str("description", "Also the webhook-id header: the same on every attempt and redelivery"),
		"event_type": str(), "status": str("enum", []string{quire.DeliveryPending, quire.DeliverySucceeded, quire.DeliveryFailed}),
		"attempts": obj{"type": "integer"}, "response_code": obj{"type": "integer"}, "response_body": str("description", "The first KiB of the last answer"),
		"error": str(), "duration_ms": obj{"type": "integer"}, "next_attempt_at": dateTime, "created_at": dateTime, "updated_at": dateTime,
	}),
	"WebhookDeliveryList": listOf("WebhookDelivery"),
	"PageSchedule": object([]string{"page_id", "publish_at", "unpublish_at", "note", "created_at"}, obj{
		"page_id": str(), "publish_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
		"unpublish_at": obj{"type": []string{"string", "null"}, "format": "date-time"}, "note": str(), "created_by": str(), "created_at": dateTime,
		"revision_id": str("description", "The revision published at publish_at; absent: the working copy of that moment"),
	}),
	"ScheduleInput": object(nil, obj{
		"publish_at":   str("format", "date-time", "description", "In the future; the working copy of that moment is published"),
		"unpublish_at": str("format", "date-time", "description", "In the future, after publish_at"),
		"note":         str("maxLength", quire.MaxNoteLen),
		"revision_id":  str("maxLength", 64, "description", "A revision of the page to publish at publish_at instead of the working copy; kept by retention while scheduled"),
	}),
	"Event": object([]string{"seq", "id", "type", "at", "resource_type", "resource_id", "public"}, obj{
		"seq": obj{"type": "integer", "description": "Also the SSE id: send it back as Last-Event-ID"}, "id": str(),
		"type": str("enum", quire.EventTypes), "at": dateTime, "resource_type": str("enum", []string{"page", "media", "setting"}),
		"resource_id": str(), "slug": str(), "previous_slug": str(), "revision": obj{"type": "integer"}, "public": obj{"type": "boolean"},
	}),
	"PublicEvent": object([]string{"type", "slug", "at"}, obj{
		"type": str("enum", []string{quire.EventPageUpdated, quire.EventPagePublished, quire.EventPageUnpublished, quire.EventPageDeleted, quire.EventSettingChanged, quire.EventSettingDeleted}),
		"slug": str("description", "The page's slug, or the public setting's key"), "previous_slug": str(), "at": dateTime,
	}),
	"WebhookPayload": object([]string{"type", "timestamp", "data"}, obj{
		"type": str("enum", append(append([]string{}, quire.EventTypes...), quire.EventWebhookTest)), "timestamp": dateTime,
		"data": object([]string{"event_id"}, obj{
			"event_id": str(), "resource_type": str("enum", []string{"page", "media", "setting", "webhook"}), "resource_id": str(),
			"slug": str("description", "A page's slug after the change, or a setting's key"), "previous_slug": str(),
			"revision": obj{"type": "integer", "description": "The revision published or unpublished"},
		}),
	}),
}

var eventTypeList = obj{"type": "array", "items": str("enum", quire.EventTypes), "description": "Empty or absent: every type"}

var webhookRequired = []string{"id", "url", "description", "event_types", "active", "created_at", "updated_at", "version"}

func webhookProps(withSecret bool) obj {
	p := obj{"id": str(), "url": str(), "description": str(), "event_types": eventTypeList, "active": obj{"type": "boolean"},
		"disabled_reason": str(), "failing_since": dateTime, "previous_secret_until": dateTime, "created_by": str(),
		"created_at": dateTime, "updated_at": dateTime, "version": obj{"type": "integer"}}
	if withSecret {
		p["secret"] = str("description", "The signing secret (whsec_…). Shown once; store it now.")
	}
	return p
}

func init() {
	for k, v := range webhookSchemas {
		schemas[k] = v
	}
}
