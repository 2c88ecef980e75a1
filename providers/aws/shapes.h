/*
 * shapes: the facts the query, ec2 and REST protocols need about the
 * operations cairn uses (which members are lists, maps, numbers, booleans;
 * list wrapping and flattening; wire names such as EC2's SubnetId.N for
 * SubnetIds; for REST, each operation's method and URI template and where
 * each member travels), kept as one compact table written from botocore's models
 * (see shapes_gen.py for the notation). Operations not in the table fall
 * back on the protocols' generic conventions (see xml.c, proto_query.c).
 *
 * Lookups read the static table directly; nothing is allocated and every
 * string returned points into the table or into the caller's struct.
 */
#ifndef CAIRN_SHAPES_H
#define CAIRN_SHAPES_H

#include <stddef.h>

enum shape_kind {
	SHAPE_NONE = 0,      /* unknown: use generic conventions */
	SHAPE_STRING = 's',  /* string, blob */
	SHAPE_INT = 'i',     /* integer, long */
	SHAPE_FLOAT = 'f',   /* float, double */
	SHAPE_BOOL = 'b',
	SHAPE_TIME = 't',    /* timestamp, kept as the ISO 8601 text AWS sends */
	SHAPE_POLICY = 'p',  /* IAM policy document: IAM sends it URL-encoded; returned decoded */
	SHAPE_STRUCT = '{',
	SHAPE_LIST = '[',
	SHAPE_MAP = '<'
};

/* A shape: a value type, small enough to copy. */
struct shape {
	enum shape_kind kind;
	const char *line;    /* the table line of a structure/list/map (static) */
	size_t section;      /* table index of the service's section */
};

/* Where a member travels in the REST protocols (botocore's "location"). */
enum shape_location {
	LOC_BODY = 0,        /* the body (or the payload member) */
	LOC_URI = 'u',       /* a {label} of the request URI */
	LOC_QUERY = 'q',     /* the query string */
	LOC_HEADER = 'h',    /* one header named loc */
	LOC_HEADERS = 'H',   /* a map: one header per key, loc is the prefix ("x-amz-meta-") */
	LOC_STATUS = 's'     /* the HTTP status (output only) */
};

struct shape_member {
	char name[128];      /* member name as in the API: "SubnetIds" */
	char loc[128];       /* locationName, or the name when there is none */
	char qname[128];     /* EC2 query name: queryName, else capitalised locationName, else name */
	struct shape target;
	enum shape_location location;
};

/* The input and output shapes of SERVICE OPERATION. Returns 0, or -1 when
 * the operation is not in the table (both shapes are then SHAPE_NONE).
 * A shape is SHAPE_NONE when the operation has no input/output. */
int shapes_operation(const char *service, const char *operation,
		     struct shape *input, struct shape *output);

/* Structure member by API name / by XML element name (loc). 0 or -1. */
int shapes_member(const struct shape *s, const char *name, struct shape_member *m);
int shapes_member_by_loc(const struct shape *s, const char *loc, struct shape_member *m);

/* Iterates a structure's members in table order: start with *cursor = NULL;
 * returns 0 per member, -1 at the end. */
int shapes_member_next(const struct shape *s, const char **cursor, struct shape_member *m);

/* The structure's payload member (REST): 0 with its name, or -1 when it has none. */
int shapes_payload(const struct shape *s, char name[128]);

/* How a REST operation is addressed. Every string "" when absent. */
struct shape_http {
	char method[8];      /* "GET", "PUT", ... */
	char uri[256];       /* "/{Bucket}/{Key+}", may carry a fixed query: "/{Bucket}?list-type=2" */
	char root[128];      /* XML element wrapping the body (rest-xml) */
	char ns[128];        /* its xmlns */
};
/* 0, or -1 when the operation is not a REST operation of the table. */
int shapes_http(const char *service, const char *operation, struct shape_http *h);

/* List facts: element shape, element XML name ("member", "item", ...), flattened. 0 or -1. */
int shapes_list(const struct shape *s, struct shape *elem, char elem_name[128], int *flattened);

/* Map facts: key and value XML names, value shape, flattened. 0 or -1. */
int shapes_map(const struct shape *s, char key_name[128], char value_name[128],
	       struct shape *value, int *flattened);

#endif
