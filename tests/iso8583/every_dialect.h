/*
 * every_dialect.h: a test dialect with one field per class, encoding and
 * prefix form, so that each has its own row in the tests.
 */
#ifndef PAYSWITCH_EVERY_DIALECT_H
#define PAYSWITCH_EVERY_DIALECT_H

static const char every_dialect_json[] =
	"{\"name\": \"every\", \"mti\": \"ascii\", \"bitmap\": \"hex\", \"fields\": {\n"
	" \"2\":  {\"class\": \"n\", \"length\": 19, \"prefix\": \"LL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},\n"
	" \"3\":  {\"class\": \"n\", \"length\": 6, \"encoding\": \"ascii\"},\n"
	" \"4\":  {\"class\": \"n\", \"length\": 5, \"encoding\": \"bcd\"},\n"
	" \"5\":  {\"class\": \"n\", \"length\": 5, \"encoding\": \"bcd-right\"},\n"
	" \"6\":  {\"class\": \"n\", \"length\": 5, \"encoding\": \"bcd\", \"pad\": \"F\"},\n"
	" \"7\":  {\"class\": \"n\", \"length\": 19, \"prefix\": \"LL\", \"prefix_encoding\": \"bcd\", \"encoding\": \"bcd-right\", \"pad\": \"F\"},\n"
	" \"8\":  {\"class\": \"z\", \"length\": 37, \"prefix\": \"LL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},\n"
	" \"9\":  {\"class\": \"z\", \"length\": 37, \"prefix\": \"LL\", \"prefix_encoding\": \"binary\", \"encoding\": \"bcd-right\"},\n"
	" \"10\": {\"class\": \"z\", \"length\": 37, \"prefix\": \"LL\", \"prefix_encoding\": \"bcd\", \"encoding\": \"bcd\"},\n"
	" \"11\": {\"class\": \"xn\", \"length\": 9, \"encoding\": \"ascii\"},\n"
	" \"12\": {\"class\": \"xn\", \"length\": 9, \"encoding\": \"bcd\"},\n"
	" \"13\": {\"class\": \"xn\", \"length\": 8, \"encoding\": \"bcd\"},\n"
	" \"14\": {\"class\": \"an\", \"length\": 10, \"prefix\": \"LLL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},\n"
	" \"15\": {\"class\": \"ans\", \"length\": 30, \"prefix\": \"LL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},\n"
	" \"16\": {\"class\": \"b\", \"length\": 8, \"encoding\": \"binary\"},\n"
	" \"17\": {\"class\": \"b\", \"length\": 8, \"encoding\": \"hex\"},\n"
	" \"18\": {\"class\": \"b\", \"length\": 999, \"prefix\": \"LLL\", \"prefix_encoding\": \"binary\", \"encoding\": \"binary\"},\n"
	" \"19\": {\"class\": \"ans\", \"length\": 9999, \"prefix\": \"LLLL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},\n"
	" \"20\": {\"class\": \"b\", \"length\": 9999, \"prefix\": \"LLLL\", \"prefix_encoding\": \"bcd\", \"encoding\": \"hex\"},\n"
	" \"21\": {\"class\": \"n\", \"length\": 999, \"prefix\": \"LLL\", \"prefix_encoding\": \"bcd\", \"encoding\": \"bcd\"},\n"
	" \"22\": {\"class\": \"an\", \"length\": 3, \"encoding\": \"ascii\"},\n"
	" \"23\": {\"class\": \"n\", \"length\": 19, \"prefix\": \"LL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},\n"
	" \"70\": {\"class\": \"n\", \"length\": 3, \"encoding\": \"ascii\"},\n"
	" \"128\": {\"class\": \"b\", \"length\": 8, \"encoding\": \"hex\"}\n"
	"}}";

#endif
