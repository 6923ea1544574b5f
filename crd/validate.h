/* validate: the format rules of names, labels, paths, URIs and addresses, and field suggestions. */
#ifndef DROVER_CRD_VALIDATE_H
#define DROVER_CRD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Each returns true when @s follows the rule. None can fail. */
bool crd_valid_dns_label(const char *s);       /* [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63 */
bool crd_valid_dns_subdomain(const char *s);   /* dot-separated labels, <= 253 */
bool crd_valid_label_key(const char *s);       /* [prefix/]name as Kubernetes labels */
bool crd_valid_label_value(const char *s);     /* "" or name, <= 63 */
bool crd_valid_abs_path(const char *s);        /* "/...", <= 4096, no control characters */
bool crd_valid_address(const char *s);         /* IPv4, IPv6 or DNS name */
bool crd_valid_bridge_name(const char *s);     /* Linux interface name: 1..15 of [A-Za-z0-9_.-] */
bool crd_valid_network_name(const char *s);    /* libvirt network: 1..64, no '/' or spaces */
bool crd_valid_cpu_model(const char *s);       /* "host-model" or a model: 1..64 of [A-Za-z0-9_.-] */
bool crd_valid_rfc3339(const char *s);         /* RFC 3339 date-time: 2026-11-23T10:00:00Z */

/* Returns NULL when @s is a libvirt URI drover accepts, else a static reason. */
const char *crd_check_uri(const char *s);

/* Returns NULL when @s names a fence agent drover may run (^fence_[a-z0-9_]+$, at most 64
 * characters: a file name, never a path), else a static reason. */
const char *crd_check_fence_agent(const char *s);

/* Returns NULL when @key=@value may be passed to a fence agent on its standard input, else
 * a static reason: keys are [a-z][a-z0-9_]*; values hold no line breaks; keys that drover
 * sets itself (action, password) or that make the agent run another program or write its
 * options (and so the password) anywhere are refused. */
const char *crd_check_fence_option(const char *key, const char *value);

/* Returns the entry of the NULL-terminated @known nearest to @word when it is close enough to
 * be a likely typo, else NULL. This function can't fail. */
const char *crd_suggest(const char *word, const char *const *known);

#endif
