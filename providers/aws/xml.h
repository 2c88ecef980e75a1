/*
 * xml: AWS XML responses (query and ec2 protocols) parsed with expat into a
 * small element tree, and converted to jansson in the operation's output
 * shape. Where the shape table has no facts, the protocols' generic
 * conventions apply: an element whose children are all <member> or <item>
 * is a list, digit-only text a number, "true"/"false" a boolean.
 */
#ifndef CAIRN_XML_H
#define CAIRN_XML_H

#include <stddef.h>
#include <jansson.h>

#include "../../lib/util.h"
#include "shapes.h"

struct xml_node {
	char *name;                 /* owned, without namespace prefix handling */
	struct strbuf text;         /* character data directly inside */
	struct xml_node **kids;     /* owned */
	size_t n_kids;
};

/* Parses a document. Returns the owned root, or NULL with err (CAIRN_EAWS-neutral: CAIRN_EINVAL). */
struct xml_node *xml_parse(const char *buf, size_t len, struct cairn_err *err);
void xml_free(struct xml_node *n);

/* First child named NAME (borrowed) or NULL. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* Text of the first child named NAME (borrowed) or NULL. */
const char *xml_child_text(const struct xml_node *n, const char *name);

/*
 * Converts element n's content to JSON according to shape s (SHAPE_NONE:
 * generic conventions). ec2: element names are EC2's lowerCamel wire names
 * (generic fallback capitalises them). Returns a new reference.
 */
json_t *xml_to_json(const struct xml_node *n, const struct shape *s, int ec2);

#endif
