/*
 * registry: the resource types cairn supports (providers/registry.c).
 * cmd/ hands these to the engine (plan_opts / exec_opts .lookup and the
 * account-id resolver); the engine never calls them by name (SPEC §1).
 */
#ifndef CAIRN_REGISTRY_H
#define CAIRN_REGISTRY_H

#include "../engine/provider.h"

/* The ops of TYPE, or NULL. Borrowed, immutable. */
const struct resource_ops *provider_lookup(const char *type);

/* The data source type TYPE (providers/data.c), or NULL. Borrowed, immutable. */
const struct data_ops *provider_data_lookup(const char *type);

/* The caller's account id for ${aws.account_id}: borrowed string or NULL with err. */
const char *provider_account_id(struct aws_client *aws, struct cairn_err *err);

#endif
