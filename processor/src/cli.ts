console.log("processor placeholder");
