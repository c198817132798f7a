# npm packages (npm/). Included by the Makefile.
#   make npm        build/npm/hostshim-VERSION.tgz and the four platform
#                   packages, from the release archives (mk/npm.sh)
#   make npm-test   install them into a clean directory with npm, offline,
#                   and use them (mk/npm-test.sh)

NPM_TGZ := build/npm/hostshim-$(VERSION).tgz

$(NPM_TGZ): $(DIST_TARS) npm/hostshim/package.json npm/hostshim/bin/hostshim.js \
    npm/hostshim/README.md mk/npm.sh LICENSE THIRD-PARTY-NOTICES
	sh mk/npm.sh $(VERSION)

npm: $(NPM_TGZ)

npm-test: npm
	sh mk/npm-test.sh $(VERSION)

.PHONY: npm npm-test
