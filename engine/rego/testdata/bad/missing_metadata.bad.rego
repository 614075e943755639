package detect.rules.missing_metadata

alert contains "x" if input.size > 1
