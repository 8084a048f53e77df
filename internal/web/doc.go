// Package web is allot's HTTP server: the JSON API under /api/v1, the
// console (html/template and htmx, assets embedded, no build step), sign-in
// with server-side sessions and CSRF tokens, bearer-token authentication for
// automation, Prometheus metrics and health endpoints.
//
// Every route authenticates first and then asks access.Service.Check about
// the action and its target, so the console and the API can never disagree
// about who may do what. Handlers read through the warehouse and the planning
// package and change things only by submitting requests (or, for pools, by
// saving policy), never by calling Graph.
package web
