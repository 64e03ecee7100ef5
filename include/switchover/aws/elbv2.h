/*
 * elbv2: Elastic Load Balancing v2 (Query API) request bodies and answer
 * parsing, with libxml2.  No I/O: aws.c sends what these build (awsreq)
 * and hands the answers back here, so all of it is testable offline.
 */
#ifndef SWITCHOVER_AWS_ELBV2_H
#define SWITCHOVER_AWS_ELBV2_H

#include <stddef.h>

#define ELBV2_MAX_TGS		5	/* AWS's limit per forward action */
#define ELBV2_WEIGHT_MAX	999
#define ELBV2_STICKY_MAX	604800	/* 7 days, in seconds */

/* A weighted forward action, as read back from a listener or rule. */
struct elbv2_forward {
	struct {
		char	*arn;
		int	 weight;
	}		 tg[ELBV2_MAX_TGS];
	size_t		 ntg;
	int		 sticky;		/* stickiness enabled */
	int		 sticky_s;		/* its duration; 0 if none given */
};

struct elbv2_health {
	int	 total, healthy, draining, other;
	char	 example[160];	/* "id:port state (reason)" of one not healthy */
};

/* Free a forward's strings and zero it. */
void	 elbv2_forward_free(struct elbv2_forward *);
/* Index of the target group with this ARN, or -1. */
int	 elbv2_forward_find(const struct elbv2_forward *, const char *arn);

/*
 * Body of DescribeListeners (rule_arn NULL or "") or DescribeRules;
 * malloc'd, NULL when out of memory.
 */
char	*elbv2_describe_body(const char *listener_arn, const char *rule_arn);
/* Parse that answer's forward action into f.  0, or -1 with why in err. */
int	 elbv2_parse_forward(const char *xml, size_t len, int rule,
	    struct elbv2_forward *f, char *err, size_t errlen);
/*
 * Body of ModifyListener (default action) or, with rule_arn, ModifyRule,
 * setting f whole.  NULL with why in err if a weight or stickiness
 * duration is out of AWS's range, or when out of memory.
 */
char	*elbv2_modify_body(const char *listener_arn, const char *rule_arn,
	    const struct elbv2_forward *f, char *err, size_t errlen);
/* Body of DescribeTargetGroups for up to two names. */
char	*elbv2_target_groups_body(const char *const names[], size_t n);
/* Fill arns[i] (malloc'd) for names[i] from its answer.  0, or -1 with err. */
int	 elbv2_parse_target_groups(const char *xml, size_t len,
	    const char *const names[], char *arns[], size_t n, char *err,
	    size_t errlen);
/* Body of DescribeTargetHealth. */
char	*elbv2_health_body(const char *tg_arn);
/* Count the targets' states.  0, or -1 with err. */
int	 elbv2_parse_health(const char *xml, size_t len, struct elbv2_health *,
	    char *err, size_t errlen);
/* Append k=v, v percent-encoded (RFC 3986), to a malloc'd form body. */
int	 elbv2_form_add(char **body, const char *key, const char *value);

#endif
