# METADATA
# title: Echo
# custom:
#   id: 3f7c1a52-6a1e-4d4f-9a39-1f1b6f0f7a02
package detect.rules.everything

# Yields the whole input, so tests can compare it with the event.
alert contains {"message": "echo", "input": input} if input.host == "echo"
