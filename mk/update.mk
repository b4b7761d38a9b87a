# authdns-update: the end-to-end tests in test/update need git (a clean work
# tree is part of the rollout contract) and dig.
TEST_DEPS += deps-git deps-dig

.PHONY: deps-git
deps-git:
	@scripts/apt-install git git
