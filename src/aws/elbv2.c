/*
 * elbv2: the ELBv2 Query API calls switchover needs, as bodies to send
 * and answers to read.  Answers are XML in the 2015-12-01 namespace;
 * anything else (an HTML error page, a truncated document, the wrong
 * namespace) is refused with a message, never half-read.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "switchover/aws/elbv2.h"

#define ELBV2_NS	"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
#define VERSION		"Version=2015-12-01"

void
elbv2_forward_free(struct elbv2_forward *f)
{
	for (size_t i = 0; i < f->ntg; i++)
		free(f->tg[i].arn);
	memset(f, 0, sizeof(*f));
}

int
elbv2_forward_find(const struct elbv2_forward *f, const char *arn)
{
	for (size_t i = 0; i < f->ntg; i++)
		if (strcmp(f->tg[i].arn, arn) == 0)
			return (int)i;
	return -1;
}

int
elbv2_form_add(char **body, const char *key, const char *value)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t	 old = *body ? strlen(*body) : 0, klen = strlen(key);
	size_t	 vlen = strlen(value);
	char	*b, *p;

	if ((b = realloc(*body, old + 1 + klen + 1 + 3 * vlen + 1)) == NULL)
		return -1;
	p = b + old;
	if (old > 0)
		*p++ = '&';
	memcpy(p, key, klen);
	p += klen;
	*p++ = '=';
	for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
		if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
		    (*v >= '0' && *v <= '9') || *v == '-' || *v == '_' ||
		    *v == '.' || *v == '~')
			*p++ = (char)*v;
		else {
			*p++ = '%';
			*p++ = hexd[*v >> 4];
			*p++ = hexd[*v & 15];
		}
	}
	*p = '\0';
	*body = b;
	return 0;
}

/* Start a body with Action and Version. */
static char *
form_new(const char *action)
{
	char *b = NULL;

	if (asprintf(&b, "Action=%s&" VERSION, action) == -1)
		return NULL;
	return b;
}

char *
elbv2_describe_body(const char *listener_arn, const char *rule_arn)
{
	int	 rule = rule_arn != NULL && *rule_arn;
	char	*b = form_new(rule ? "DescribeRules" : "DescribeListeners");

	if (b != NULL && elbv2_form_add(&b, rule ? "RuleArns.member.1" :
	    "ListenerArns.member.1", rule ? rule_arn : listener_arn) == -1) {
		free(b);
		return NULL;
	}
	return b;
}

/* First child element of n named name, or NULL. */
static xmlNode *
child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* First element named name anywhere under n (depth first), or NULL. */
static xmlNode *
find(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c != NULL; c = c->next) {
		xmlNode *f;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)c->name, name) == 0)
			return c;
		if ((f = find(c, name)) != NULL)
			return f;
	}
	return NULL;
}

/* Text of child element name of n, malloc'd; NULL if absent. */
static char *
text(xmlNode *n, const char *name)
{
	xmlNode	*c = child(n, name);
	xmlChar	*s;
	char	*r;

	if (c == NULL || (s = xmlNodeGetContent(c)) == NULL)
		return NULL;
	r = strdup((const char *)s);
	xmlFree(s);
	return r;
}

/* Integer text of child name of n; def if absent, -1 if not a number. */
static long
number(xmlNode *n, const char *name, long def)
{
	char	*s = text(n, name), *end;
	long	 v;

	if (s == NULL)
		return def;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0)
		v = -1;
	free(s);
	return v;
}

/* Parse xml and check its namespace; the document, or NULL with err. */
static xmlDoc *
parse(const char *xml, size_t len, char *err, size_t errlen)
{
	xmlDoc	*doc;
	xmlNode	*root;

	doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL) {
		snprintf(err, errlen, "answer is not XML (%zu bytes)", len);
		xmlFreeDoc(doc);
		return NULL;
	}
	if (root->ns == NULL || strcmp((const char *)root->ns->href, ELBV2_NS)) {
		snprintf(err, errlen, "answer <%s> is not in the ELBv2 namespace",
		    (const char *)root->name);
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

int
elbv2_parse_forward(const char *xml, size_t len, int rule,
    struct elbv2_forward *f, char *err, size_t errlen)
{
	xmlDoc	*doc;
	xmlNode	*list, *act = NULL, *fc, *tgs, *st;
	int	 nact = 0;

	memset(f, 0, sizeof(*f));
	if ((doc = parse(xml, len, err, errlen)) == NULL)
		return -1;
	list = find(xmlDocGetRootElement(doc), rule ? "Actions" :
	    "DefaultActions");
	for (xmlNode *m = list ? list->children : NULL; m; m = m->next) {
		char *type;

		if (m->type != XML_ELEMENT_NODE)
			continue;
		nact++;
		if ((type = text(m, "Type")) != NULL && strcmp(type, "forward") == 0)
			act = m;
		free(type);
	}
	if (act == NULL) {
		snprintf(err, errlen, "the %s has no forward action",
		    rule ? "rule" : "listener's default rule");
		goto fail;
	}
	if (nact != 1) {
		snprintf(err, errlen, "the %s has %d actions; switchover only "
		    "manages a single weighted forward", rule ? "rule" :
		    "listener's default rule", nact);
		goto fail;
	}
	fc = child(act, "ForwardConfig");
	tgs = child(fc, "TargetGroups");
	for (xmlNode *m = tgs ? tgs->children : NULL; m; m = m->next) {
		if (m->type != XML_ELEMENT_NODE)
			continue;
		if (f->ntg == ELBV2_MAX_TGS) {
			snprintf(err, errlen, "more than %d target groups",
			    ELBV2_MAX_TGS);
			goto fail;
		}
		if ((f->tg[f->ntg].arn = text(m, "TargetGroupArn")) == NULL ||
		    (f->tg[f->ntg].weight = (int)number(m, "Weight", 1)) < 0 ||
		    f->tg[f->ntg].weight > ELBV2_WEIGHT_MAX) {
			free(f->tg[f->ntg].arn);
			snprintf(err, errlen, "a target group without an ARN or "
			    "with a bad weight");
			goto fail;
		}
		f->ntg++;
	}
	if (f->ntg == 0 && (f->tg[0].arn = text(act, "TargetGroupArn")) != NULL) {
		f->tg[0].weight = 1;	/* a plain forward: one group, all traffic */
		f->ntg = 1;
	}
	if (f->ntg == 0) {
		snprintf(err, errlen, "the forward action names no target group");
		goto fail;
	}
	if ((st = child(fc, "TargetGroupStickinessConfig")) != NULL) {
		char *en = text(st, "Enabled");

		f->sticky = en != NULL && strcmp(en, "true") == 0;
		free(en);
		f->sticky_s = (int)number(st, "DurationSeconds", 0);
	}
	xmlFreeDoc(doc);
	return 0;
fail:
	elbv2_forward_free(f);
	xmlFreeDoc(doc);
	return -1;
}

char *
elbv2_modify_body(const char *listener_arn, const char *rule_arn,
    const struct elbv2_forward *f, char *err, size_t errlen)
{
	int		 rule = rule_arn != NULL && *rule_arn;
	const char	*pre = rule ? "Actions.member.1" : "DefaultActions.member.1";
	char		*b = NULL, k[160], v[32];
	int		 bad = 0;

	if (f->ntg == 0 || f->ntg > ELBV2_MAX_TGS) {
		snprintf(err, errlen, "a forward needs 1-%d target groups",
		    ELBV2_MAX_TGS);
		return NULL;
	}
	for (size_t i = 0; i < f->ntg; i++)
		if (f->tg[i].weight < 0 || f->tg[i].weight > ELBV2_WEIGHT_MAX) {
			snprintf(err, errlen, "weight %d is outside 0-%d",
			    f->tg[i].weight, ELBV2_WEIGHT_MAX);
			return NULL;
		}
	if (f->sticky && (f->sticky_s < 1 || f->sticky_s > ELBV2_STICKY_MAX)) {
		snprintf(err, errlen, "stickiness duration %d s is outside 1-%d",
		    f->sticky_s, ELBV2_STICKY_MAX);
		return NULL;
	}
	if ((b = form_new(rule ? "ModifyRule" : "ModifyListener")) == NULL)
		goto oom;
	bad |= elbv2_form_add(&b, rule ? "RuleArn" : "ListenerArn",
	    rule ? rule_arn : listener_arn);
	snprintf(k, sizeof(k), "%s.Type", pre);
	bad |= elbv2_form_add(&b, k, "forward");
	for (size_t i = 0; i < f->ntg; i++) {
		snprintf(k, sizeof(k), "%s.ForwardConfig.TargetGroups.member.%zu."
		    "TargetGroupArn", pre, i + 1);
		bad |= elbv2_form_add(&b, k, f->tg[i].arn);
		snprintf(k, sizeof(k), "%s.ForwardConfig.TargetGroups.member.%zu."
		    "Weight", pre, i + 1);
		snprintf(v, sizeof(v), "%d", f->tg[i].weight);
		bad |= elbv2_form_add(&b, k, v);
	}
	snprintf(k, sizeof(k), "%s.ForwardConfig.TargetGroupStickinessConfig."
	    "Enabled", pre);
	bad |= elbv2_form_add(&b, k, f->sticky ? "true" : "false");
	if (f->sticky) {
		snprintf(k, sizeof(k), "%s.ForwardConfig."
		    "TargetGroupStickinessConfig.DurationSeconds", pre);
		snprintf(v, sizeof(v), "%d", f->sticky_s);
		bad |= elbv2_form_add(&b, k, v);
	}
	if (!bad)
		return b;
oom:
	free(b);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

char *
elbv2_target_groups_body(const char *const names[], size_t n)
{
	char *b = form_new("DescribeTargetGroups"), k[40];

	for (size_t i = 0; b != NULL && i < n; i++) {
		snprintf(k, sizeof(k), "Names.member.%zu", i + 1);
		if (elbv2_form_add(&b, k, names[i]) == -1) {
			free(b);
			return NULL;
		}
	}
	return b;
}

int
elbv2_parse_target_groups(const char *xml, size_t len,
    const char *const names[], char *arns[], size_t n, char *err,
    size_t errlen)
{
	xmlDoc	*doc;
	xmlNode	*list;

	if ((doc = parse(xml, len, err, errlen)) == NULL)
		return -1;
	list = find(xmlDocGetRootElement(doc), "TargetGroups");
	for (xmlNode *m = list ? list->children : NULL; m; m = m->next) {
		char *name, *arn;

		if (m->type != XML_ELEMENT_NODE)
			continue;
		name = text(m, "TargetGroupName");
		arn = text(m, "TargetGroupArn");
		for (size_t i = 0; name && arn && i < n; i++)
			if (arns[i] == NULL && strcmp(names[i], name) == 0)
				arns[i] = strdup(arn);
		free(name);
		free(arn);
	}
	xmlFreeDoc(doc);
	for (size_t i = 0; i < n; i++)
		if (arns[i] == NULL) {
			snprintf(err, errlen, "target group %s not found", names[i]);
			return -1;
		}
	return 0;
}

char *
elbv2_health_body(const char *tg_arn)
{
	char *b = form_new("DescribeTargetHealth");

	if (b != NULL && elbv2_form_add(&b, "TargetGroupArn", tg_arn) == -1) {
		free(b);
		return NULL;
	}
	return b;
}

int
elbv2_parse_health(const char *xml, size_t len, struct elbv2_health *h,
    char *err, size_t errlen)
{
	xmlDoc	*doc;
	xmlNode	*list;

	memset(h, 0, sizeof(*h));
	if ((doc = parse(xml, len, err, errlen)) == NULL)
		return -1;
	list = find(xmlDocGetRootElement(doc), "TargetHealthDescriptions");
	for (xmlNode *m = list ? list->children : NULL; m; m = m->next) {
		xmlNode	*th;
		char	*state, *reason, *id;
		long	 port;

		if (m->type != XML_ELEMENT_NODE)
			continue;
		th = child(m, "TargetHealth");
		state = text(th, "State");
		reason = text(th, "Reason");
		id = text(child(m, "Target"), "Id");
		port = number(child(m, "Target"), "Port", 0);
		h->total++;
		if (state != NULL && strcmp(state, "healthy") == 0)
			h->healthy++;
		else {
			if (state != NULL && strstr(state, "draining") != NULL)
				h->draining++;
			else
				h->other++;
			if (h->example[0] == '\0')
				snprintf(h->example, sizeof(h->example),
				    "%s:%ld %s%s%s%s", id ? id : "?", port,
				    state ? state : "unknown", reason ? " (" : "",
				    reason ? reason : "", reason ? ")" : "");
		}
		free(state);
		free(reason);
		free(id);
	}
	xmlFreeDoc(doc);
	return 0;
}
