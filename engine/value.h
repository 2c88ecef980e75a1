/*
 * value: the "known after apply" marker used in planned attribute objects.
 */
#ifndef CAIRN_VALUE_H
#define CAIRN_VALUE_H

#include <jansson.h>

/* A new reference to an unknown marker: {"$cairn_unknown": true}. */
json_t *value_unknown(void);
int value_is_unknown(const json_t *v);
/* True if the array arr (anything else: false) holds the string s. */
int value_array_has(const json_t *arr, const char *s);

/* True if v or anything nested in it is unknown. */
int value_has_unknown(const json_t *v);

#endif
